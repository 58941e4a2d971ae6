import { StdioTransport, connectMcp, flattenToolContent } from "@promenade/mcp";

const client = await connectMcp(
  new StdioTransport({ command: "npx", args: ["-y", "@modelcontextprotocol/server-everything"] }),
);
const result = await client.callTool("echo", { message: "hello" });
console.log(flattenToolContent(result)); // "Echo: hello"
await client.close();
