// One agent() leaf against a scripted OpenAI-compatible server on 127.0.0.1.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as fake from "@promenade/agent/testing";

const provider = await fake.startFakeOpenAiProvider({
  replies: [fake.openAiText("Hi! Token safe.")],
});
const workspaceDir = mkdtempSync(join(tmpdir(), "agent-"));
const run = fake.createFakeAgentHost({ workspaceDir, resolve: fake.resolvedFor(provider) });
run.redactor.add("API_TOKEN", "tok-1234567890"); // what secrets.get() does in a run process

const answer = await run.agent("Greet me. My token is tok-1234567890.", { name: "greeter" });
console.log(answer); // Hi! Token safe.
console.log(run.kinds()); // turn_started, text_start, text_delta, text_end, turn_ended
console.log(provider.requests[0]?.rawBody); // …"My token is [redacted:API_TOKEN]."…
await provider.close();
