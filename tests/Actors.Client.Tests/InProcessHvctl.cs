using Actors.Hvctl;

namespace Actors.Client.Tests;

/// <summary>hvctl's whole command path (parsing, the command, its output) run in the test process, with its output captured.</summary>
internal static class InProcessHvctl
{
    public static async Task<Result> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var io = new HvctlIo(new MemoryStream(), new MemoryStream(), output, error);
        int code = await HvctlApp.RunAsync(args, io);
        return new Result(code, output.ToString(), error.ToString());
    }

    internal sealed record Result(int ExitCode, string Out, string Error)
    {
        /// <summary>Asserts success, naming what went wrong otherwise; returns the output.</summary>
        public string Succeeded()
        {
            Assert.True(ExitCode == 0, $"exit {ExitCode}: {Error}");
            return Out;
        }
    }
}
