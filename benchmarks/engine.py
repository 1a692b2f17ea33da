"""Engine benchmark (issue 3): `python benchmarks/engine.py` == `rnnlab bench engine`."""

from rnnlab.bench import engine_rows, print_engine

if __name__ == "__main__":
    print_engine(engine_rows())
