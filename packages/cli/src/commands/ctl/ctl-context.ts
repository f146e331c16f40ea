import type { Command } from "commander";
import { ManagementClient } from "./management-client.js";
import { type Format, Output } from "./output.js";

/** The global flags, as commander leaves them (see ctl.ts for their definitions). */
interface GlobalOptions {
  url?: string;
  host: string;
  port: number;
  username?: string;
  password?: string;
  timeout: number;
  vhost: string;
  format: Format;
  formatter?: Format;
  quiet?: boolean;
  tableHeaders: boolean;
}

/** What every command's action works with: the API client, the output and the vhost (-p). */
export interface CtlContext {
  client: ManagementClient;
  out: Output;
  vhost: string;
}

/** The context of a command from its own and its parent's (the global) options. */
export function ctlContext(cmd: Command): CtlContext {
  const o = cmd.optsWithGlobals<GlobalOptions>();
  return {
    client: new ManagementClient(o),
    out: new Output(o.formatter ?? o.format, o.quiet === true, o.tableHeaders),
    vhost: o.vhost,
  };
}
