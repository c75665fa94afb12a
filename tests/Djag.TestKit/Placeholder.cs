namespace Djag.TestKit;
