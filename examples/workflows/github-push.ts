// A webhook workflow: POST /hooks/github-push/0 with an HMAC-SHA256 signature of the raw body
// (GitHub's X-Hub-Signature-256 works as is). The server fails closed until you set the secret:
//
//   PROMENADE_WEBHOOK_SECRET__GITHUB_PUSH=<the secret you gave GitHub> pnpm start
//
// Try it locally:
//   body='{"ref":"refs/heads/main","commits":[{"message":"fix"}]}'
//   sig=$(printf '%s' "$body" | openssl dgst -sha256 -hmac "$PROMENADE_WEBHOOK_SECRET__GITHUB_PUSH" | sed 's/.* //')
//   curl -X POST localhost:8080/hooks/github-push/0 -H "content-type: application/json" \
//        -H "x-promenade-signature: sha256=$sig" -d "$body"
import { input, output, phase } from "@promenade/workflow";

export const meta = {
  slug: "github-push",
  title: "GitHub push",
  description: "Summarises a push event delivered by a signed webhook.",
  triggers: [{ kind: "webhook", auth: "signature" }],
};

interface PushEvent {
  ref?: string;
  commits?: { message?: string }[];
}

phase("summarise");
const event = (input ?? {}) as PushEvent;
const commits = event.commits ?? [];
for (const commit of commits) console.log(`commit: ${commit.message ?? "(no message)"}`);
output({ ref: event.ref ?? null, commits: commits.length });
