"""The explorer's per-task pages (``translate``, ``speech``, ``memory``): each module has a
``router: APIRouter`` that ``app.PAGES`` lists (with its path and nav label)."""
