using System.Runtime.InteropServices;
using Actors.Hvctl;

// hvctl handles Ctrl-C itself rather than letting System.CommandLine end the process after a grace period:
// 'run' and 'demo' must stop their VM and their embedded silos cleanly, which can take longer than that.
using var interrupted = new CancellationTokenSource();
using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
{
    context.Cancel = true;
    interrupted.Cancel();
});
using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    interrupted.Cancel();
});

return await HvctlApp.RunAsync(args, HvctlIo.System, interrupted.Token);
