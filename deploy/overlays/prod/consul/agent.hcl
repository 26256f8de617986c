# The Consul server's own agent token: it registers its node and syncs the services registered with it.
node_prefix "" {
  policy = "write"
}
service_prefix "" {
  policy = "read"
}
