"""Applications: one module per task (lm, forecast, translate, speech, memory, classify)."""
