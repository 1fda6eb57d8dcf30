"""The shop's staff: admin accounts, signing in, the setup link and second factors."""
