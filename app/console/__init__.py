"""The `lutra` command line beyond serving: run tools and pipelines, list tools, bridge MCP over stdio."""
