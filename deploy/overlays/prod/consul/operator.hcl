# Operators: the values meant to change at run time (Bazaar's KV keys), and reading the catalog.
key_prefix "bazaar/" {
  policy = "write"
}
service_prefix "" {
  policy = "read"
}
node_prefix "" {
  policy = "read"
}
