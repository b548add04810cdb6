"""Storage quotas per user and per team, set by an admin over the storageQuotaMb default."""
