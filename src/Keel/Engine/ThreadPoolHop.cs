using System.Runtime.CompilerServices;

namespace Keel.Engine;

/// <summary>
/// <c>await ThreadPoolHop.Instance</c> continues on a thread-pool thread, whatever scheduler the current thread runs
/// (unlike <see cref="Task.Yield"/>, which would queue to a workflow's scheduler if awaited under one).
/// </summary>
internal readonly struct ThreadPoolHop : ICriticalNotifyCompletion
{
    public static ThreadPoolHop Instance => default;

    public ThreadPoolHop GetAwaiter() => this;

    public bool IsCompleted => false;

    public void GetResult()
    {
    }

    public void OnCompleted(Action continuation) => ThreadPool.QueueUserWorkItem(static c => c(), continuation, preferLocal: false);

    public void UnsafeOnCompleted(Action continuation) => ThreadPool.UnsafeQueueUserWorkItem(static c => c(), continuation, preferLocal: false);
}
