using System.Text.Json;
using Keel.Testing;
using Keel.TestWorker;

namespace Keel.IntegrationTests;

/// <summary>The chaos tests' workload drivers and operator.</summary>
internal static class ChaosWorkloads
{
    /// <summary>
    /// Starts <paramref name="runs"/> runs of the mixed chaos workflow in <paramref name="batches"/> batches spread over
    /// the interference (each sent its "go" signal at once; <paramref name="ticks"/> short steps first), approves every "ship" approval as it appears, and returns
    /// once all of them have ended.
    /// </summary>
    public static Func<ChaosWorkloadContext, Task> Mixed(int runs, int batches, TimeSpan spacing, int ticks = 0, string prefix = "chaos") => async ctx =>
    {
        var client = ctx.Client;
        var ct = ctx.CancellationToken;
        var started = new List<string>();
        var starting = Task.Run(async () =>
        {
            for (var b = 0; b < batches; b++)
            {
                for (var i = b * runs / batches; i < (b + 1) * runs / batches; i++)
                {
                    var runId = $"{prefix}-{i:000}";
                    await client.StartAsync(ChaosFlow.Name, new ChaosInput(i, ticks), new StartWorkflowOptions { AllowUnknownWorkflow = true, RunId = runId }, ct);
                    await client.SignalAsync(runId, "go", i, ct);
                    lock (started)
                    {
                        started.Add(runId);
                    }
                }
                if (b < batches - 1)
                {
                    await Task.WhenAny(ctx.ChaosEnded, Task.Delay(spacing, TimeProvider.System, ct));
                }
            }
        }, ct);
        while (true)
        {
            await ApproveAllAsync(client, ct);
            if (starting.IsCompleted)
            {
                await starting; // its failure is the workload's
                if (await AllEndedAsync(client, started, ct))
                {
                    return;
                }
            }
            await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System, ct);
        }
    };

    /// <summary>Approves every pending approval (as a person would, in the order they wait).</summary>
    public static async Task ApproveAllAsync(KeelClient client, CancellationToken ct)
    {
        foreach (var approval in await client.ListPendingApprovalsAsync(limit: 1000, cancellationToken: ct))
        {
            try
            {
                await client.DecideApprovalAsync(approval.RunId, new ApprovalResponse { Approved = true, By = "chaos driver", ApprovalName = approval.Name }, ct);
            }
            catch (Exception ex) when (ex is ApprovalNotPendingException or RunFinishedException)
            {
                // decided or ended meanwhile
            }
        }
    }

    public static async Task<bool> AllEndedAsync(KeelClient client, IEnumerable<string> runIds, CancellationToken ct)
    {
        foreach (var runId in runIds)
        {
            var run = await client.GetRunAsync(runId, ct);
            if (run is null || !(run.Status.IsTerminal() || run.Status == RunStatus.Blocked))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The operator: an interrupted send found in the outbox is completed with its receipt; else it is retried.</summary>
    public static Func<AttentionCase, CancellationToken, Task<StepResolution?>> OutboxOperator(string outbox) => (c, _) =>
    {
        var sent = Outbox.Read(outbox).FirstOrDefault(m => m.Key == c.IdempotencyKey);
        return Task.FromResult<StepResolution?>(sent.Key is null
            ? StepResolution.Retry("chaos operator", $"{c.IdempotencyKey} is not in the outbox")
            : StepResolution.CompleteWith(JsonSerializer.Serialize(sent.Result), "chaos operator", $"{c.IdempotencyKey} is in the outbox"));
    };
}
