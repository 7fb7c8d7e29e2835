"""Pure logic and models: no dash, flask or redis imports here."""
