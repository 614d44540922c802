"""An in-memory, transactional persistence adapter: a real adapter, not a mock.

It keeps the promises of the SQL adapter (read-committed isolation, row locks on write,
atomic commit, rollback on error), so the whole core can be tested in milliseconds and
the contract suite proves both behave alike.
"""

from adapters.memory.database import MemoryDatabase, MemoryUnitOfWork

__all__ = ["MemoryDatabase", "MemoryUnitOfWork"]
