using System.Globalization;

namespace Keel.Cli.Demo;

/// <summary>One attempt of one step, written <c>STEP/ATTEMPT</c> on the command line (<c>tool:fetch-pricing/2</c>).</summary>
/// <param name="Step">The step's name.</param>
/// <param name="Attempt">The attempt number, from 1.</param>
internal sealed record StepAttemptRef(string Step, int Attempt)
{
    public static bool TryParse(string text, out StepAttemptRef? value)
    {
        value = null;
        var slash = text.LastIndexOf('/');
        if (slash <= 0 || !int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var attempt) || attempt < 1)
        {
            return false;
        }
        value = new StepAttemptRef(text[..slash], attempt);
        return true;
    }

    public bool Matches(StepContext step) => step.Attempt == Attempt && string.Equals(step.StepName, Step, StringComparison.Ordinal);

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Step}/{Attempt}");
}
