namespace Keel.Storage;

/// <summary>
/// A message kept once by its content's hash (<see cref="IWorkflowStore.PutMessagesAsync"/>): a journal refers to it by
/// <see cref="Hash"/> instead of holding it again, so a conversation that every model call or session snapshot refers to
/// is stored about once, not once per reference.
/// </summary>
/// <param name="Hash">The hash of <paramref name="Json"/> that names it (the writer's choice of hash over its own canonical
/// form; Keel.AI: SHA-256 of the message's compact JSON in Microsoft.Extensions.AI's contracts, in base64url).</param>
/// <param name="Json">The message.</param>
public sealed record StoredMessage(string Hash, string Json);
