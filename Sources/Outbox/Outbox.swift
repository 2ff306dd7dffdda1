// Outbox: the durable offline queue and the event journal on SQLite.
