using System.CommandLine;
using System.Diagnostics;
using Actors.Client;
using Actors.Grains;

namespace Actors.Hvctl;

/// <summary>
/// The hvctl command tree and its one error policy: every failure a user can cause ends as one line on
/// stderr ("hvctl: ...") and exit code 2 (usage) or 1 (operation), never a stack trace.
/// </summary>
internal static class HvctlApp
{
    public static async Task<int> RunAsync(string[] args, HvctlIo io, CancellationToken cancellationToken = default)
    {
        var options = new CommonOptions();
        RootCommand root = BuildRoot(options, io);
        ParseResult parsed = root.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            io.Error.WriteLine($"hvctl: {OneLine(MostSpecificError(parsed))} (see '{CommandPath(parsed)} --help')");
            return ExitCodes.Usage;
        }

        var invocation = new InvocationConfiguration
        {
            Output = io.Out,
            Error = io.Error,
            EnableDefaultExceptionHandler = false,
            // Program.cs owns Ctrl-C and passes it in as the cancellation token.
            ProcessTerminationTimeout = null,
        };
        using Activity? span = HvctlTracing.StartCommand(CommandPath(parsed));
        try
        {
            int exitCode = await parsed.InvokeAsync(invocation, cancellationToken).ConfigureAwait(false);
            HvctlTracing.Ended(span, exitCode);
            return exitCode;
        }
        catch (Exception e)
        {
            if (e is OperationCanceledException && cancellationToken.IsCancellationRequested)
            {
                HvctlTracing.Ended(span, ExitCodes.Interrupted, "interrupted");
                return ExitCodes.Interrupted;
            }

            (int code, string? message) = Classify(e);
            if (message is not null)
                io.Error.WriteLine($"hvctl: {OneLine(message)}");
            HvctlTracing.Ended(span, code, message is null ? e.GetType().Name : OneLine(message));
            return code;
        }
    }

    internal static RootCommand BuildRoot(CommonOptions options, HvctlIo io)
    {
        var root = new RootCommand("hvctl: manage the VMs, hosts, disks and switches of an Actors hypervisor cluster")
        {
            options.Gateway,
            options.ConnectTimeout,
            options.TlsCertificate,
            options.TlsKey,
            options.TlsAuthority,
            VmCommands.Build(options, io),
            HostCommands.Build(options, io),
            DiskCommands.Build(options, io),
            SwitchCommands.Build(options, io),
            CertCommands.Build(io),
            RunCommand.Build(options, io),
            DemoCommand.Build(options, io),
            CompletionCommand.Build(io),
        };
        // System.CommandLine's own --version prints the entry assembly's version, which in a test host is the
        // test host's: hvctl's is the one asked for.
        foreach (VersionOption version in root.Options.OfType<VersionOption>())
            version.Action = new PrintVersion(io.Out);
        return root;
    }

    /// <summary>Exit code and message for an exception that ended a command; a null message prints nothing.</summary>
    internal static (int Code, string? Message) Classify(Exception e)
    {
        while (e is AggregateException { InnerExceptions.Count: 1 } aggregate)
            e = aggregate.InnerExceptions[0];

        return e switch
        {
            UsageException or Actors.Grains.Security.TlsCredentialsException => (ExitCodes.Usage, e.Message),
            HypervisorException { Refusal: HypervisorRefusal.AlreadyExists } => (ExitCodes.AlreadyExists, e.Message),
            HypervisorException or HypervisorClientException => (ExitCodes.Failure, e.Message),
            OperationCanceledException => (ExitCodes.Interrupted, null),
            // Orleans' own message carries a dump of the waiting activation, pages long: not for a user.
            TimeoutException => (ExitCodes.Failure, "the cluster did not answer in time; a host may be overloaded or gone (see 'hvctl host list')"),
            Orleans.Runtime.SiloUnavailableException or Orleans.Runtime.OrleansMessageRejectionException =>
                (ExitCodes.Failure, $"lost the connection to the cluster: {e.Message}"),
            _ => (ExitCodes.Failure, $"unexpected {e.GetType().Name}: {e.Message}"),
        };
    }

    /// <summary>
    /// "vm frobnicate" yields both "required command was not provided" and "unrecognized command 'frobnicate'";
    /// the one that names what the user typed says more.
    /// </summary>
    private static string MostSpecificError(ParseResult parsed)
    {
        IEnumerable<string> messages = parsed.Errors.Select(e => e.Message);
        return messages.FirstOrDefault(m => parsed.UnmatchedTokens.Any(t => m.Contains(t, StringComparison.Ordinal)))
            ?? messages.First();
    }

    private static string CommandPath(ParseResult parsed)
    {
        var names = new List<string>();
        for (System.CommandLine.Parsing.SymbolResult? r = parsed.CommandResult; r is not null; r = r.Parent)
        {
            if (r is System.CommandLine.Parsing.CommandResult command && command.Parent is not null)
                names.Add(command.Command.Name);
        }

        names.Add("hvctl");
        names.Reverse();
        return string.Join(' ', names);
    }

    internal static string OneLine(string message) =>
        string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
