"""Optional per-task pages of the explorer; each module exposes ``router: APIRouter``."""
