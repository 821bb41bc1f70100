namespace Keel.Storage;

/// <summary>
/// A message kept once by its content's hash (<see cref="IWorkflowStore.PutMessagesAsync"/>): a journal refers to it by
/// <see cref="Hash"/> instead of holding it again, so a conversation that every model call or session snapshot refers to
/// is stored about once, not once per reference.
/// </summary>
/// <param name="Hash">The hash of <paramref name="Json"/> that names it (the writer's choice of hash over its own canonical
/// form; Keel.AI: SHA-256 of the message's compact JSON in Microsoft.Extensions.AI's contracts, in base64url).</param>
/// <param name="Json">The message.</param>
public sealed record StoredMessage(string Hash, string Json)
{
    /// <summary>Checks messages a store is given to keep: none null, each with a hash and its JSON.</summary>
    /// <param name="messages">The messages.</param>
    /// <param name="paramName">The argument's name, for the exception.</param>
    /// <exception cref="ArgumentNullException">The list, a message or a message's JSON is null.</exception>
    /// <exception cref="ArgumentException">A message's hash is empty.</exception>
    public static void Validate(IReadOnlyList<StoredMessage> messages, string paramName)
    {
        ArgumentNullException.ThrowIfNull(messages, paramName);
        foreach (var message in messages)
        {
            ArgumentNullException.ThrowIfNull(message, paramName);
            ArgumentException.ThrowIfNullOrEmpty(message.Hash, paramName);
            ArgumentNullException.ThrowIfNull(message.Json, paramName);
        }
    }
}
