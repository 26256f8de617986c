# Consul in prod: ACLs on, everything denied unless a token's policy allows it (deploy/README.md, "Consul").
# The management and agent tokens come from the consul Secret (acl-tokens.hcl), the gossip key from
# its CONSUL_GOSSIP_KEY (-encrypt).
acl {
  enabled                  = true
  default_policy           = "deny"
  down_policy              = "extend-cache"
  enable_token_persistence = true
}
