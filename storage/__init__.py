"""Storage: the models and every SQL statement, and nothing above them.

`Session` is the unit of work each storage function takes. The layers above pass it
along (from `Database.run`) without importing SQLAlchemy themselves.
"""

from sqlalchemy.orm import Session

__all__ = ["Session"]
