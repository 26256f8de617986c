# Prometheus discovers every instance through Consul: it reads the catalog, nothing else.
service_prefix "" {
  policy = "read"
}
node_prefix "" {
  policy = "read"
}
