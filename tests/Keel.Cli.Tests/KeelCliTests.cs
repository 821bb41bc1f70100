namespace Keel.Cli.Tests;

public class KeelCliTests
{
    [Fact]
    public async Task Help_ListsCommandsUnderTheKeelName()
    {
        var result = await Cli.RunAsync("--help");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("keel [command] [options]", result.Out, StringComparison.Ordinal);
        foreach (var command in new[] { "start <WORKFLOW> <JSON>", "runs", "show <RUN_ID>", "cancel <RUN_ID>", "signal <RUN_ID> <NAME> <JSON>", "pending", "approve <RUN_ID>", "demo" })
        {
            Assert.Contains($"  {command} ", result.Out, StringComparison.Ordinal);
        }
        Assert.DoesNotContain("  worker ", result.Out, StringComparison.Ordinal); // the demo's own worker processes: hidden
    }

    [Fact]
    public async Task UnknownCommand_FailsWithMessage()
    {
        var result = await Cli.RunAsync("frobnicate");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("'frobnicate'", result.Err, StringComparison.Ordinal);
    }
}
