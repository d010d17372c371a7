"""LLM agents: a config agent that proposes points of a space, a kernel agent that writes Triton
variants, the knowledge base they read, and the client that talks to any OpenAI-compatible endpoint.
Agents never touch the database: they return proposals and call records for search/ to store."""
