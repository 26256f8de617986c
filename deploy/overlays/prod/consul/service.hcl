# The ACL policy of one service's token (SERVICE is replaced by its name, deploy/README.md): it may
# register, update and deregister only its own instances, and read the catalog (every service's
# instances and health, the nodes) to find the services it calls. Nothing else: no KV, no ACLs.
service "SERVICE" {
  policy = "write"
}
service_prefix "" {
  policy = "read"
}
node_prefix "" {
  policy = "read"
}
