export { createWebPages, defaultDistDir } from "./server.tsx";
export type { NodeRequest, NodeResponse, PageHandler, WebPagesOptions } from "./server-api.ts";
