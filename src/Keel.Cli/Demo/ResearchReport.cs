namespace Keel.Cli.Demo;

/// <summary>The result of the demo <c>research-agent</c> workflow.</summary>
/// <param name="Question">What was researched.</param>
/// <param name="Summary">The answer.</param>
/// <param name="Findings">One line per tool call.</param>
internal sealed record ResearchReport(string Question, string Summary, IReadOnlyList<string> Findings)
{
    /// <summary>Where the report was published, once a person approved it; null when rejected or not yet asked.</summary>
    public string? PublishedTo { get; init; }

    /// <summary>The person's decision on publishing, in words.</summary>
    public string? Decision { get; init; }
}

/// <summary>What the agent proposes to do with its report; the approver may change the channel.</summary>
/// <param name="Channel">Where to post it.</param>
/// <param name="Headline">The line that goes with it.</param>
internal sealed record PublishReport(string Channel, string Headline);
