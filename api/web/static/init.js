// Starts the GOV.UK and MoJ components on the page (error summary focus, buttons, tables).
import { initAll as initGovuk } from "/static/vendor/govuk-frontend/govuk-frontend.min.js";
import { initAll as initMoj } from "/static/vendor/moj-frontend/moj-frontend.min.js";

initGovuk();
initMoj();
