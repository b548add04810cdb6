"""Lutra over the Model Context Protocol: the /mcp endpoint and `lutra mcp --stdio`."""
