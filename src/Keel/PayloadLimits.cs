using System.Text;

namespace Keel;

/// <summary>
/// The largest values Keel stores (<see cref="KeelOptions.Limits"/>). A value over its limit is refused before anything
/// is written, with a <see cref="PayloadTooLargeException"/> that names it, its size and the limit: run inputs, signal
/// payloads and a person's edited arguments at the client; a step's result fails the step for good (it is not retried:
/// the next attempt would be as large); a workflow's result fails the run. Error messages are cut, never refused.
/// Keep large data (documents, files) outside Keel and pass a reference.
/// </summary>
/// <remarks>Sizes are UTF-8 bytes of the JSON. Clients and workers of one store should use the same limits.</remarks>
public sealed class PayloadLimits
{
    /// <summary>A run's input (also a child run's, and the input a run continues as new with). Default 2 MiB.</summary>
    public int MaxRunInputBytes { get; set; } = 2 * 1024 * 1024;

    /// <summary>A signal's payload. Default 2 MiB.</summary>
    public int MaxSignalPayloadBytes { get; set; } = 2 * 1024 * 1024;

    /// <summary>An approval's arguments, as the workflow asks or as a person edits them. Default 256 KiB.</summary>
    public int MaxApprovalArgumentsBytes { get; set; } = 256 * 1024;

    /// <summary>A step's result (also a run's result, and a result a person completes a step with). Default 2 MiB.</summary>
    public int MaxResultBytes { get; set; } = 2 * 1024 * 1024;

    /// <summary>An error message, in characters: longer ones are cut (and say so). Default 8,192.</summary>
    public int MaxErrorMessageLength { get; set; } = 8192;

    /// <summary>Throws when <paramref name="json"/> is larger than <paramref name="limit"/> bytes.</summary>
    /// <param name="json">The value as stored.</param>
    /// <param name="limit">The limit in bytes.</param>
    /// <param name="setting">The limit's name in this class.</param>
    /// <param name="state">What <paramref name="what"/> describes the value from.</param>
    /// <param name="what">What the value is, for the message ("input of run 'x'"): built only when it is too large, so
    /// the check costs nothing on the paths every step takes.</param>
    /// <exception cref="PayloadTooLargeException">The value is too large.</exception>
    internal static void Check<TState>(string? json, int limit, string setting, TState state, Func<TState, string> what)
    {
        // Three bytes per UTF-16 unit at most: only a long string needs counting.
        if (json is null || (long)json.Length * 3 <= limit)
        {
            return;
        }
        var size = Encoding.UTF8.GetByteCount(json);
        if (size > limit)
        {
            throw new PayloadTooLargeException(what(state), size, limit, setting);
        }
    }

    /// <summary>The error with its message cut to <see cref="MaxErrorMessageLength"/>.</summary>
    internal ErrorInfo Cap(ErrorInfo error) =>
        error.Message.Length <= MaxErrorMessageLength ? error
            : error with { Message = $"{error.Message[..MaxErrorMessageLength]}… (cut: {error.Message.Length:N0} characters in all)" };

    internal void Validate(ICollection<System.ComponentModel.DataAnnotations.ValidationResult> results)
    {
        if (MaxRunInputBytes < 1 || MaxSignalPayloadBytes < 1 || MaxApprovalArgumentsBytes < 1 || MaxResultBytes < 1 || MaxErrorMessageLength < 64)
        {
            results.Add(new("Payload limits must be positive (and MaxErrorMessageLength at least 64).", [nameof(KeelOptions.Limits)]));
        }
    }
}
