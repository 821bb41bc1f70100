namespace Keel.Testing;

/// <summary>What happened to a worker process under the chaos harness.</summary>
public enum ChaosEventKind
{
    /// <summary>The harness killed it with SIGKILL (and restarted it at once).</summary>
    Kill,

    /// <summary>The harness stopped it with SIGSTOP, and later continued it with SIGCONT.</summary>
    Stop,

    /// <summary>It exited on its own (a crash, a FailFast) and was restarted at once.</summary>
    Exit,
}
