namespace Keel.Cli.Output;

/// <summary>A step that waits for a person, in the CLI's terms: why, and the command that decides it.</summary>
internal static class AttentionText
{
    /// <summary>"Resolve it: keel resolve RUN --retry | --complete-with JSON | --fail REASON", the run id quoted for the shell.</summary>
    public static string Resolve(string runId) =>
        $"Resolve it: keel resolve {Shell.Quote(runId)} --retry | --complete-with JSON | --fail REASON";

    /// <summary>What the person is asked to decide, for the reason's kind.</summary>
    public static string Choices(AttentionReason reason) => reason.Kind switch
    {
        AttentionKind.PreconditionNotMet => "--retry runs the step anyway; --complete-with gives its result without running it; --fail fails it.",
        _ => "--retry runs the body again (the unknown attempt counts as failed); --complete-with gives the result if the effect happened; --fail fails the step.",
    };

    /// <summary>The reason in one line, for lists and tables.</summary>
    public static string OneLine(StepAttention attention) => ErrorText.OneLine(attention.Reason.ToString());
}
