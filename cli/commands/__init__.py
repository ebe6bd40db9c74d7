"""The `ordo` command's subcommands, one module per group; each calls `services/`."""
