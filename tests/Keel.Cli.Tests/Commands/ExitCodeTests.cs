using System.Net;
using System.Net.Sockets;

namespace Keel.Cli.Tests.Commands;

/// <summary>
/// Each kind of failure has its own exit code (<see cref="ExitCodes"/>): 1 unexpected, 2 bad input, 3 not found, 4 not
/// allowed in the run's state, 5 store unavailable; and says what is wrong in one line, never "unexpected ...".
/// </summary>
public class ExitCodeTests
{
    [Fact]
    public void ExitCodes_AreTheDocumentedNumbers()
    {
        Assert.Equal([0, 1, 2, 3, 4, 5, 130],
            [ExitCodes.Success, ExitCodes.Failure, ExitCodes.BadInput, ExitCodes.NotFound, ExitCodes.NotAllowed, ExitCodes.StoreUnavailable, ExitCodes.Cancelled]);
    }

    public static TheoryData<string[], string> BadInput() => new()
    {
        { ["show", ""], "The run id is empty; a run id is 1 to 200 characters" },
        { ["show", "a/b"], "'a/b' is not a valid run id: '/' at position 2 is not allowed" },
        { ["cancel", "a b"], "U+0020 at position 2 is not allowed" },
        { ["pause", "tab\there"], "U+0009 at position 4 is not allowed" },
        { ["resume", ""], "The run id is empty" },
        { ["priority", "", "3"], "The run id is empty" },
        { ["signal", "", "go"], "The run id is empty" },
        { ["approve", "x/y"], "'x/y' is not a valid run id" },
        { ["resolve", "", "--retry"], "The run id is empty" },
        { ["signal", "p-1", "go", "{oops"], "The payload of signal 'go' is not valid JSON" },
        { ["approve", "p-1", "--args", "{oops"], "not valid JSON" },
        { ["resolve", "p-1", "--complete-with", "{oops"], "is not valid JSON" },
        { ["signal", "p-1", "go", "@no-such-payload.json"], "JSON @no-such-payload.json: there is no file at " },
        { ["approve", "p-1", "--args", "@"], "--args '@' names no file" },
        { ["signal", "p-1", "keel.approval/1", "1"], "reserved" },
        { ["runs", "--bogus"], "--bogus" },
        { ["runs", "--limit", "0"], "--limit must be between 1 and 1000" },
        { ["priority", "p-1", "high"], "high" },
        { ["show"], "'show'" },
        { ["resolve", "p-1"], "exactly one of --retry, --complete-with JSON or --fail REASON" },
        { ["serve", "--url", "localhost"], "is not a listening address" },
    };

    [Theory]
    [MemberData(nameof(BadInput))]
    public async Task BadInput_IsExit2_WithAClearMessage_AndChangesNothing(string[] command, string message)
    {
        using var dir = new TempDirectory();
        await TestRuns.CreatePendingAsync(dir.DatabasePath, "p-1");

        var result = await Cli.RunAsync([.. command, "--db", dir.DatabasePath]);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(message, result.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("unexpected", result.Err, StringComparison.Ordinal);
        Assert.DoesNotContain("(Parameter", result.Err, StringComparison.Ordinal);
        var run = await TestRuns.GetRunAsync(dir.DatabasePath, "p-1");
        Assert.Equal(RunStatus.Pending, run!.Status);
        Assert.Equal(0, run.Priority);
    }

    [Fact]
    public async Task InvalidRunId_IsBadInput_EvenWhenTheDatabaseIsMissing()
    {
        using var dir = new TempDirectory();

        var result = await Cli.RunAsync("show", "", "--db", dir.DatabasePath);

        Assert.Equal(2, result.ExitCode);
        Assert.Equal("keel: error: The run id is empty; " + RunIds.Rule + ".\n", result.Err.ReplaceLineEndings("\n"));
        Assert.False(File.Exists(dir.DatabasePath));
    }

    public static TheoryData<string[], string> NotFound() => new()
    {
        { ["show", "nope"], "No run with id 'nope'" },
        { ["cancel", "nope"], "No run with id 'nope'" },
        { ["signal", "nope", "go", "1"], "No run with id 'nope'" },
        { ["approve", "nope"], "No run with id 'nope'" },
        { ["resolve", "nope", "--retry"], "No run with id 'nope'" },
    };

    [Theory]
    [MemberData(nameof(NotFound))]
    public async Task NotFound_IsExit3(string[] command, string message)
    {
        using var dir = new TempDirectory();
        await TestRuns.CreatePendingAsync(dir.DatabasePath, "p-1");

        var result = await Cli.RunAsync([.. command, "--db", dir.DatabasePath]);

        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.Contains(message, result.Err, StringComparison.Ordinal);
        Assert.Single(result.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    public static TheoryData<string[], string> NotAllowed() => new()
    {
        { ["cancel", "done-1"], "has already finished (Completed)" },
        { ["priority", "done-1", "4"], "already finished" },
        { ["signal", "done-1", "go", "1"], "already finished" },
        { ["pause", "done-1"], "already finished" },
        { ["resume", "p-1"], "not paused" },
        { ["approve", "p-1"], "not waiting for an approval" },
        { ["resolve", "p-1", "--retry"], "no step of it waits for a decision" },
    };

    [Theory]
    [MemberData(nameof(NotAllowed))]
    public async Task NotAllowedInTheRunsState_IsExit4(string[] command, string message)
    {
        using var dir = new TempDirectory();
        await TestRuns.CompleteAsync(dir.DatabasePath, "done-1");
        await TestRuns.CreatePendingAsync(dir.DatabasePath, "p-1");

        var result = await Cli.RunAsync([.. command, "--db", dir.DatabasePath]);

        Assert.True(result.ExitCode == 4, result.ToString());
        Assert.Contains(message, result.Err, StringComparison.Ordinal);
        Assert.Single(result.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Theory]
    [InlineData("runs")]
    [InlineData("cancel")]
    [InlineData("signal")]
    public async Task StoreUnavailable_IsExit5(string command)
    {
        using var dir = new TempDirectory();
        var garbage = new byte[8192];
        new Random(3).NextBytes(garbage);
        await File.WriteAllBytesAsync(dir.DatabasePath, garbage, TestContext.Current.CancellationToken);
        string[] args = command switch
        {
            "cancel" => ["cancel", "r-1"],
            "signal" => ["signal", "r-1", "go", "1"],
            _ => [command],
        };

        var result = await Cli.RunAsync([.. args, "--db", dir.DatabasePath]);

        Assert.True(result.ExitCode == 5, result.ToString());
        Assert.Contains("is not a Keel database or is corrupted", result.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnexpectedFailure_AnAddressInUse_IsExit1_WithItsMessage()
    {
        using var dir = new TempDirectory();
        await TestRuns.CreatePendingAsync(dir.DatabasePath, "p-1");
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var result = await Cli.RunAsync("serve", "--url", $"http://127.0.0.1:{port}", "--db", dir.DatabasePath);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains($"127.0.0.1:{port}", result.Err, StringComparison.Ordinal);
        Assert.Single(result.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
