using System.Runtime.InteropServices;
using Keel.Cli;

// Ctrl+C and SIGTERM cancel the command's token: a worker then stops gracefully and releases its leases.
using var shutdown = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    shutdown.Cancel();
};
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    shutdown.Cancel();
});
return await KeelCli.RunAsync(args, Console.In, Console.Out, Console.Error, shutdown.Token);
