using System.CommandLine;
using System.CommandLine.Invocation;
using System.Reflection;

namespace Actors.Hvctl;

/// <summary>
/// <c>hvctl --version</c>: hvctl's informational version, which the SDK stamps with the commit it was built from
/// ("0.1.0+8e1db30..."), so that a bug report says exactly which hvctl ran.
/// </summary>
internal sealed class PrintVersion(TextWriter output) : SynchronousCommandLineAction
{
    public static string Version { get; } =
        typeof(PrintVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(PrintVersion).Assembly.GetName().Version?.ToString()
        ?? "unknown";

    public override int Invoke(ParseResult parseResult)
    {
        output.WriteLine(Version);
        return ExitCodes.Success;
    }
}
