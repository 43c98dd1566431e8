"""Models: what ships in packages (the hub) and what the registry knows for each tenant."""
