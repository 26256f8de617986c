// The package as the edge sees it (see server-api.ts); server.tsx implements it, checked by edge/web/tsconfig.json.
import type { CreateWebPages } from "./server-api.ts";
export type { NodeRequest, NodeResponse, PageHandler, WebPagesOptions } from "./server-api.ts";
export declare const createWebPages: CreateWebPages;
export declare const defaultDistDir: string;
