using System.Runtime.InteropServices;
using BatchOps.Cli;

// Ctrl+C and SIGTERM stop the run (running attempts are cancelled) and leave the job resumable; the
// command then exits with 130. A second Ctrl+C is left to the default handler and ends the process.
using var interrupt = new CancellationTokenSource();
void OnSignal(PosixSignalContext context)
{
    if (!interrupt.IsCancellationRequested)
    {
        context.Cancel = true;
        Console.Error.WriteLine();
        Console.Error.WriteLine("batchops: stopping; the job will be resumable ('batchops resume JOB'). Press Ctrl+C again to abort at once.");
        interrupt.Cancel();
    }
}

using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
// Metrics and spans over OTLP when an OTEL_EXPORTER_OTLP_ENDPOINT is set; flushed as the command ends.
using var export = BatchOps.Cli.Telemetry.OtlpExport.Start(Environment.GetEnvironmentVariable);
return await BatchOpsCli.RunAsync(args, Console.Out, Console.Error, errorIsTerminal: !Console.IsErrorRedirected, interrupt.Token);
