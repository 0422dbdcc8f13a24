"""I/O at the auth service's edges: the LDAP directory."""
