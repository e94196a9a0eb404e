/** What an AWS SDK call failed with (the typed error's name, HTTP status and message); fails when the call succeeds. */
export async function sdkRejection(promise: Promise<unknown>): Promise<{ name: string; status: number | undefined; message: string }> {
  try {
    await promise;
  } catch (error) {
    const failure = error as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: failure.name, status: failure.$metadata?.httpStatusCode, message: failure.message };
  }
  throw new Error('the request succeeded');
}
