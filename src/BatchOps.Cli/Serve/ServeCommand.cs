using System.CommandLine;
using BatchOps.Cli.Commands;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace BatchOps.Cli.Serve;

/// <summary><c>batchops serve</c>: the REST API over the job store, until Ctrl+C.</summary>
internal static class ServeCommand
{
    public const string TokenVariable = "BATCHOPS_TOKEN";

    public static Command Create(GlobalOptions global)
    {
        var urls = new Option<string>("--urls") { Description = $"Where to listen (default {ServeOptions.DefaultUrls}: this machine only).", DefaultValueFactory = _ => ServeOptions.DefaultUrls };
        var token = new Option<string?>("--token") { Description = $"The token every API request needs (default: {TokenVariable} if set, else a random one printed in the URL to open). Prefer {TokenVariable}: a command line is visible to other users." };
        var noToken = new Option<bool>("--no-token") { Description = "Serve without a token: any program or user on this machine can then read and change jobs. Only for loopback addresses." };
        var allowedHosts = new Option<string[]>("--allowed-hosts") { Description = "Host names requests may use besides those in --urls and the loopback names (a reverse proxy's name, say); others get 400.", AllowMultipleArgumentsPerToken = true };
        var readOnly = new Option<bool>("--read-only") { Description = "Refuse every request that would change a job (405)." };
        var noRun = new Option<bool>("--no-run") { Description = "Refuse posted specs (POST /api/jobs, 405): the server watches and manages jobs but creates none." };
        var command = new Command("serve", "Serve the job store over HTTP: the dashboard page and a REST API under /api (jobs, items, history, statistics).") { urls, token, noToken, allowedHosts, readOnly, noRun };
        command.SetAction(async (parse, _) =>
        {
            using var session = global.Open(parse);
            var given = parse.GetValue(token) ?? Environment.GetEnvironmentVariable(TokenVariable);
            if (parse.GetValue(noToken) && given is not null)
            {
                session.Error.WriteLine($"batchops serve: --no-token and a token ({(parse.GetValue(token) is null ? TokenVariable : "--token")}) contradict each other; drop one.");
                return ExitCodes.Usage;
            }

            var made = given is null && !parse.GetValue(noToken);
            var options = new ServeOptions(parse.GetValue(urls)!, made ? NewToken() : given, parse.GetValue(readOnly))
            {
                AllowedHosts = parse.GetValue(allowedHosts) ?? [],
                NoRun = parse.GetValue(noRun),
            };
            WebApplication app;
            try
            {
                app = DashboardApi.Build(session.Store, options, Engine.Store.StoreLocation.LogFolder(session.StoreFolder), session.LoadSettings());
            }
            catch (ArgumentException error)
            {
                session.Error.WriteLine($"batchops serve: {error.Message}");
                return ExitCodes.Usage;
            }

            await using (app.ConfigureAwait(false))
            {
                try
                {
                    await app.StartAsync(session.Interrupt).ConfigureAwait(false);
                }
                catch (IOException error)
                {
                    // Kestrel's bind failure: "Failed to bind to address http://127.0.0.1:5178: address already in use."
                    session.Error.WriteLine($"batchops serve: {error.Message.TrimEnd('.')}. Choose another port with --urls (port 0 picks any free one), or stop what listens there.");
                    return ExitCodes.Usage;
                }

                var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
                session.Out.WriteLine($"Serving {session.Store.Location} at {string.Join(", ", addresses)}{(options.ReadOnly ? " (read-only)" : string.Empty)}{(options.NoRun ? " (no posted specs)" : string.Empty)}; Ctrl+C stops.");
                if (made)
                {
                    // Printed once, here only: the page trades it for a cookie and drops it from the address bar.
                    session.Out.WriteLine($"Open {addresses.FirstOrDefault()?.TrimEnd('/')}/?{ApiGuard.TokenParameter}={options.Token} (API clients: 'Authorization: Bearer {options.Token}').");
                }
                else if (options.Token is null)
                {
                    session.Error.WriteLine("batchops serve: --no-token: any program or user on this machine can read every job (inputs and outputs) and change jobs through this server.");
                }

                session.Out.Flush();
                var retention = Commands.RetentionRuns.RunAsync(session, session.LoadSettings().Retention, TextWriter.Synchronized(session.Out), session.Interrupt);
                try
                {
                    await Task.Delay(Timeout.Infinite, session.Interrupt).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // Ctrl+C or SIGTERM: stop serving.
                }

                await retention.ConfigureAwait(false);
                await app.StopAsync(CancellationToken.None).ConfigureAwait(false);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>A fresh token: 256 random bits, URL-safe.</summary>
    internal static string NewToken() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
}
