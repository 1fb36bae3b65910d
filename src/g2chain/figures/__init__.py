"""Figures a physicist looks at, one module per branch: typed results or files in, PNG out.
The workflow's scripts call them; no analysis step draws."""

import matplotlib

matplotlib.use("Agg")  # files only, no screen
