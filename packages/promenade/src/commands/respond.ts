/**
 * `promenade respond <run> <key> --value <answer>`: answer one pending human-input request; the
 * run continues with the answer. `--value` is shaped by the gate's answer form (see
 * `answer-option.ts`), which is read from the run's requests first, so an unknown key or a
 * request that is no longer pending is named before anything is sent. The server has the last
 * word on whether the answer fits the form (400 `VALIDATION`, exit 1) and on races (409).
 */
import type { JsonValue } from "@promenade/workflow";
import { JSON_OPTION, SERVER_OPTIONS, stringOption } from "../args.ts";
import { answerFor, answerObject } from "../answer-option.ts";
import { ApiClient } from "../client/api.ts";
import { targetFromArgs } from "../client/target.ts";
import type { Command } from "../command.ts";
import { CliError, UsageError } from "../errors.ts";
import { EXIT } from "../exit-codes.ts";
import { colorEnabled, createStyle } from "../format/color.ts";
import { describeAnswer } from "../format/input-form.ts";

/** `promenade respond`. */
export const respondCommand: Command = {
  spec: {
    name: "respond",
    summary: "answer a run's human-input request",
    description:
      'Answers the pending human-input request <key> of run <run>; the run continues with the answer. --value is the answer: for a text or choice gate the text itself (a JSON string is unquoted), for a multiselect gate a JSON array of options (or one option). A JSON object is sent as the whole answer, e.g. {"value":"Later","isOther":true} or {"values":["a"],"other":"c"}. `promenade inputs` lists what is waiting.',
    options: {
      value: {
        type: "string",
        value: "ANSWER",
        description: "the answer: text or JSON (required)",
      },
      ...JSON_OPTION,
      ...SERVER_OPTIONS,
    },
    positionals: [
      { name: "run", required: true },
      { name: "key", required: true },
    ],
    examples: [
      "promenade respond 01JDA7Q3M8X2ZC4K9T5VQW1HNB approve --value Ship",
      'promenade respond 01JDA7Q3M8X2ZC4K9T5VQW1HNB regions --value \'["eu","us"]\'',
    ],
  },
  async run(args, io) {
    const [runId = "", key = ""] = args.positionals;
    const raw = stringOption(args.values["value"]);
    if (raw === undefined) {
      throw new UsageError(
        "missing --value.",
        `Give the answer, e.g. promenade respond ${runId} ${key} --value Ship.`,
      );
    }
    const client = new ApiClient(targetFromArgs(args.values, io.env));
    let answer: JsonValue | null = answerObject(raw);
    if (answer === null) {
      const { inputs } = await client.listRunInputs(runId);
      const request = inputs.find((candidate) => candidate.key === key);
      const pending = inputs.filter((candidate) => candidate.status === "pending");
      if (request === undefined) {
        throw new CliError(`run ${runId} has no input request "${key}".`, {
          code: "NOT_FOUND",
          hint:
            pending.length === 0
              ? "It is waiting for no input; `promenade inputs --run <run>` lists its requests."
              : `Waiting: ${pending.map((candidate) => JSON.stringify(candidate.key)).join(", ")}.`,
        });
      }
      if (request.status !== "pending") {
        throw new CliError(
          `input "${key}" of run ${runId} is ${request.status}, not waiting for an answer.`,
          {
            code: "NOT_FOUND",
            hint: "`promenade inputs --run <run>` shows its requests and the answers given.",
          },
        );
      }
      answer = answerFor(request.inputSpec, raw);
    }
    const body = await client.respondToInput(runId, key, answer);
    if (args.values["json"] === true) {
      io.stdout.write(`${JSON.stringify(body)}\n`);
      return EXIT.ok;
    }
    const style = createStyle(colorEnabled(io.stderr, io.env));
    io.stderr.write(
      `${style.green("answered")} "${key}" of run ${runId}: ${describeAnswer(body.request.response)}\n`,
    );
    return EXIT.ok;
  },
};
