"""SQL storage: the only package that imports SQLAlchemy."""
