/**
 * Answers a mocked command with `answer`, keeping in `sent` a copy of each input as it was sent.
 * The SDK's paginators send one input object for every page and only change its token, so the
 * inputs that aws-sdk-client-mock records all end up showing the last page's token.
 */
export function keepingInputs<Input extends object, Output>(
  sent: Input[],
  answer: (input: Input) => Output,
): (input: Input) => Output {
  return (input) => {
    sent.push({ ...input });
    return answer(input);
  };
}
