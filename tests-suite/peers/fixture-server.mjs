// A tiny stdio MCP server (official TypeScript SDK) for the cases the reference servers cannot
// produce: a 70-character tool name with characters the model APIs refuse, a tool that crashes
// the server, and a tool that leaves a grandchild process behind.
import { spawn } from "node:child_process";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js";

const prefix = "fetch.the.weather.report/for-a-given-city";
export const LONG_NAME = prefix + "_".repeat(70 - prefix.length - 4) + "tail";

const emptySchema = { type: "object", properties: {} };
const tools = [
  { name: LONG_NAME, description: "A tool with a 70-character name.", inputSchema: emptySchema },
  { name: "pid", description: "The server's process id.", inputSchema: emptySchema },
  { name: "crash", description: "Exit the server at once.", inputSchema: emptySchema },
  { name: "spawn_sleeper", description: "Start a grandchild process; returns its pid.", inputSchema: emptySchema },
];

const server = new Server({ name: "codex-test-fixture", version: "1.0.0" }, { capabilities: { tools: {} } });
server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools }));
server.setRequestHandler(CallToolRequestSchema, async (request) => {
  const text = (t) => ({ content: [{ type: "text", text: String(t) }] });
  switch (request.params.name) {
    case LONG_NAME:
      return text(`long tool called with ${JSON.stringify(request.params.arguments ?? {})}`);
    case "pid":
      return text(process.pid);
    case "crash":
      process.stderr.write("crashing on purpose\n");
      process.exit(7);
    case "spawn_sleeper": {
      const child = spawn("sleep", ["1000"], { stdio: "ignore" });
      return text(child.pid);
    }
    default:
      return { content: [{ type: "text", text: `unknown tool ${request.params.name}` }], isError: true };
  }
});
process.stderr.write("fixture server starting\n");
await server.connect(new StdioServerTransport());
