# Added to the edge's token besides service.hcl: it reads its rate limits (EDGE_RATE_LIMITS_KEY) and
# nothing else in KV. Only operators (operator.hcl) write that key.
key "bazaar/edge/rate-limits" {
  policy = "read"
}
