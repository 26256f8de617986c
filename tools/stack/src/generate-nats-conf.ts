// `npm run generate:nats-conf`: regenerates the prod overlay's NATS users from the services' event domains.
import { prodNatsConfPath, writeProdNatsConf } from "./prod-nats-conf.ts";
import { repositoryRoot } from "./settings.ts";

await writeProdNatsConf(repositoryRoot);
process.stdout.write(`wrote ${prodNatsConfPath(repositoryRoot)}\n`);
