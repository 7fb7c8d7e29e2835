"""Socket.IO server side: who joins which rooms, and snapshots for (re)synchronising clients."""
